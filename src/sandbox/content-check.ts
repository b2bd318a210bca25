/** msg_sec_check v2: a configurable word list decides pass / review / risky. */
import { newRid } from './wx-errors';

export type Suggest = 'pass' | 'review' | 'risky';

export interface SecCheckDetail {
  strategy: 'content_model' | 'keyword';
  errcode: number;
  suggest: Suggest;
  label: number;
  keyword?: string;
  level?: number;
  prob?: number;
}

export interface SecCheckResult {
  errcode: 0;
  errmsg: 'ok';
  result: { suggest: Suggest; label: number };
  detail: SecCheckDetail[];
  trace_id: string;
}

/** WeChat labels: 100 normal, 20001 political (used for every risky hit here), 21000 other (review). */
export const LABEL_NORMAL = 100;
export const LABEL_RISKY = 20001;
export const LABEL_REVIEW = 21000;

export const DEFAULT_RISKY_WORDS: readonly string[] = ['badword', 'forbiddenword'];
export const DEFAULT_REVIEW_WORDS: readonly string[] = ['reviewword'];

export class ContentChecker {
  private risky: string[] = [...DEFAULT_RISKY_WORDS];
  private review: string[] = [...DEFAULT_REVIEW_WORDS];

  setRiskyWords(words: string[]): void {
    this.risky = cleanWords(words);
  }

  setReviewWords(words: string[]): void {
    this.review = cleanWords(words);
  }

  /** Case-insensitive substring match; risky words win over review words. */
  check(content: string): SecCheckResult {
    const text = content.toLowerCase();
    const riskyHit = this.risky.find((w) => text.includes(w));
    const reviewHit = riskyHit === undefined ? this.review.find((w) => text.includes(w)) : undefined;
    const trace_id = newRid();
    if (riskyHit !== undefined) return result('risky', LABEL_RISKY, riskyHit, trace_id);
    if (reviewHit !== undefined) return result('review', LABEL_REVIEW, reviewHit, trace_id);
    return {
      errcode: 0,
      errmsg: 'ok',
      result: { suggest: 'pass', label: LABEL_NORMAL },
      detail: [{ strategy: 'content_model', errcode: 0, suggest: 'pass', label: LABEL_NORMAL, prob: 90 }],
      trace_id,
    };
  }
}

function result(suggest: Suggest, label: number, keyword: string, trace_id: string): SecCheckResult {
  return {
    errcode: 0,
    errmsg: 'ok',
    result: { suggest, label },
    detail: [
      { strategy: 'keyword', errcode: 0, suggest, label, keyword, level: 90 },
      { strategy: 'content_model', errcode: 0, suggest, label, prob: 90 },
    ],
    trace_id,
  };
}

function cleanWords(words: string[]): string[] {
  return words.filter((w) => typeof w === 'string' && w.length > 0).map((w) => w.toLowerCase());
}
