/**
 * `npm run -s alerts > wxgate-rules.yml`: the Prometheus alerting rules (src/ops/alert-rules.ts),
 * on stdout only.
 */
import { alertRulesYaml } from '../src/ops/alert-rules';

process.stdout.write(alertRulesYaml());
