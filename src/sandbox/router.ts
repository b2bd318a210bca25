/** The router type every sandbox route module registers on. */
import { Router } from '@koa/router';
import type { SandboxCtxState } from './http';

export type SbxRouter = Router<SandboxCtxState>;

export function newRouter(prefix?: string): SbxRouter {
  return new Router<SandboxCtxState>(prefix === undefined ? {} : { prefix });
}
