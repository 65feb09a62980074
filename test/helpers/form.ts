/** Multipart requests as the seeds' Python clients send them (requests `files=` / `data=`). */
export function form(
  files: Array<{ field: string; name: string; bytes: Buffer; type?: string }>,
  fields: Record<string, string | number> = {},
): FormData {
  const body = new FormData();
  for (const [key, value] of Object.entries(fields)) body.append(key, String(value));
  for (const f of files)
    body.append(f.field, new Blob([new Uint8Array(f.bytes)], { type: f.type ?? 'application/octet-stream' }), f.name);
  return body;
}

export async function postForm(
  url: string,
  body: FormData,
): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(url, { method: 'POST', body });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}
