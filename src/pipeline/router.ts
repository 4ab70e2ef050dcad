// Matches a model name to a route: the first route whose patterns match, else the default.

import { LRUCache } from 'lru-cache';
import type { RouteConfig } from '../config/gateway-config';
import { compileModelPattern, type ModelPattern } from './model-pattern';

interface CompiledRoute {
  readonly route: RouteConfig;
  readonly patterns: readonly ModelPattern[];
}

/** Model names seen recently; a client cannot grow this past the bound with random names. */
const ROUTE_CACHE_ENTRIES = 4096;
const NO_ROUTE = Symbol('no route');

/** Routes in configuration order; built once at start-up, then only read. */
export class Router {
  private readonly routes: readonly CompiledRoute[];
  private readonly cache = new LRUCache<string, RouteConfig | typeof NO_ROUTE>({
    max: ROUTE_CACHE_ENTRIES,
  });
  /** The route for calls that name no model (server metadata, health) and for unmatched models. */
  readonly defaultRoute: RouteConfig | undefined;

  constructor(routes: readonly RouteConfig[]) {
    this.routes = routes
      .filter((route) => !route.default || route.models.length > 0)
      .map((route) => ({ route, patterns: route.models.map(compileModelPattern) }));
    this.defaultRoute = routes.find((route) => route.default);
  }

  /** The route for `model`, or undefined when none matches and there is no default. */
  match(model: string): RouteConfig | undefined {
    const cached = this.cache.get(model);
    if (cached !== undefined) return cached === NO_ROUTE ? undefined : cached;

    const found = this.routes.find((candidate) => candidate.patterns.some((p) => p.matches(model)));
    const route = found?.route ?? this.defaultRoute;
    this.cache.set(model, route ?? NO_ROUTE);
    return route;
  }
}
