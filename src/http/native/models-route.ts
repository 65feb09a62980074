import type { FastifyInstance } from 'fastify';
import type { HttpServices } from '../http-services.js';
import { backendForKey } from '../plugins/auth.js';

/** What these routes use of the services. */
type ModelsServices = Pick<HttpServices, 'models'>;

/** GET /api/v1/models, DELETE /api/v1/models/{name}: the registry, natively. */
export function registerModelRoutes(app: FastifyInstance, services: ModelsServices): void {
  // Upstream URLs and GGUF paths are shown to admin keys only.
  app.get('/api/v1/models', { config: { scope: 'key' as const } }, async (request) => ({
    models: services.models.list().map((m) => ({ ...m, backend: backendForKey(request, m.backend) })),
  }));
  app.delete('/api/v1/models/:name', { config: { scope: 'admin' as const } }, async (request) => {
    const { name } = request.params as { name: string };
    const { id, wasLoaded } = await services.models.unload(name);
    return { id, unloaded: true, was_loaded: wasLoaded };
  });
}
