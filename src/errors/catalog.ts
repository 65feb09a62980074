/**
 * Every error visiongate can answer with. A route never invents a status or a code:
 * it throws `appError(code, detail)` and the surface's renderer shapes the body.
 */
export const errorCatalog = {
  bad_request: { status: 400, title: 'Bad request' },
  unauthorized: { status: 401, title: 'API key required' },
  forbidden: { status: 403, title: 'Not allowed for this API key' },
  invalid_parameter: { status: 422, title: 'Invalid parameter' },
  unsupported_parameter: { status: 400, title: 'Parameter not supported by this model' },
  missing_document: { status: 422, title: 'No document in the request' },
  payload_too_large: { status: 413, title: 'Payload too large' },
  unsupported_media_type: { status: 415, title: 'Unsupported media type' },
  corrupt_document: { status: 422, title: 'Corrupt or unreadable document' },
  too_many_pixels: { status: 422, title: 'Image too large in pixels' },
  too_many_pages: { status: 422, title: 'Too many pages' },
  pdf_encrypted: { status: 422, title: 'Encrypted PDF' },
  pdf_javascript: { status: 422, title: 'PDF contains JavaScript' },
  render_timeout: { status: 422, title: 'Page took too long to render' },
  page_out_of_range: { status: 422, title: 'Page selection out of range' },
  unsupported_language: { status: 422, title: 'Language not installed' },
  engine_unavailable: { status: 503, title: 'OCR engine not available' },
  url_forbidden: { status: 422, title: 'URL not allowed' },
  url_fetch_failed: { status: 422, title: 'Could not fetch the URL' },
  not_found: { status: 404, title: 'Not found' },
  model_not_found: { status: 404, title: 'Model not found' },
  capability_unavailable: { status: 503, title: 'Capability not configured' },
  method_not_allowed: { status: 405, title: 'Method not allowed' },
  not_acceptable: { status: 406, title: 'Not acceptable' },
  request_timeout: { status: 504, title: 'Processing took too long' },
  client_closed: { status: 499, title: 'Client closed the request' },
  overloaded: { status: 503, title: 'Server busy' },
  rate_limited: { status: 429, title: 'Too many requests' },
  queue_full: { status: 429, title: 'Job queue full' },
  idempotency_conflict: { status: 422, title: 'Idempotency key reused with a different request' },
  job_not_finished: { status: 409, title: 'Job not finished' },
  interrupted: { status: 500, title: 'Job interrupted' },
  upstream_error: { status: 502, title: 'Upstream model server failed' },
  upstream_unavailable: { status: 503, title: 'Upstream model server unavailable' },
  upstream_timeout: { status: 504, title: 'Upstream model server timed out' },
  internal: { status: 500, title: 'Internal error' },
} as const satisfies Record<string, { status: number; title: string }>;

export type ErrorCode = keyof typeof errorCatalog;
