/**
 * `npm run -s dashboard > wxgate-dashboard.json`: the Grafana dashboard (src/ops/dashboard.ts), on
 * stdout only.
 */
import { dashboardJson } from '../src/ops/dashboard';

process.stdout.write(dashboardJson());
