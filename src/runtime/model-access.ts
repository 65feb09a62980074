import { appError } from '../errors/app-error.js';
import { callerContext } from './usage-meter.js';

/**
 * The one model-access check, made where a model name is resolved (ModelRegistry.require):
 * a key limited to some models may use only those (403 otherwise).
 */
export function checkModelAccess(id: string): void {
  const caller = callerContext.getStore();
  const allowed = caller?.models;
  if (allowed && !allowed.includes('*') && !allowed.includes(id)) {
    throw appError('forbidden', `API key "${caller.key}" may not use model '${id}'; it may use ${allowed.join(', ')}`, {
      model: id,
    });
  }
}
