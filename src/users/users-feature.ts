import type { Feature, FeatureDeps } from '../feature-deps';

/** Login, sessions, profile and phone (filled in by the users work). */
export async function usersFeature(_deps: FeatureDeps): Promise<Feature> {
  return { routes: [] };
}
