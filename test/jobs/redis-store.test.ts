import { after, before, describe } from 'node:test';
import { needs } from '../helpers/system-parts.js';
import { RedisJobStore } from '../../src/jobs/redis-store.js';
import { startRedis, type RedisServer } from '../helpers/redis.js';
import { settings, storeConformance } from './store-conformance.js';

describe('on a real Redis', needs('redis'), () => {
  let redis: RedisServer;
  before(async () => {
    redis = await startRedis();
  });
  after(() => redis.stop());
  let n = 0;

  // Each test gets its own key prefix: nothing leaks between them.
  storeConformance('redis', async () => new RedisJobStore(redis.url, `t${n++}`, { ...settings, lockDurationMs: 2000 }));
});
