import type { Feature, FeatureDeps } from '../feature-deps';

/** Mini-program API endpoints: wxacode, messages, content security, media, links. */
export async function miniappFeature(_deps: FeatureDeps): Promise<Feature> {
  return { routes: [] };
}
