/** base64 → bytes, with or without a data: URL prefix (A1111 versions differ). */
export function fromBase64(data: string): Buffer {
  return Buffer.from(data.replace(/^data:[^,]*,/, ''), 'base64');
}
