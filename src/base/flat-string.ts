/**
 * `parts` joined as one sequential string, for a string that is kept (a Map
 * key, an id): V8 keeps a concatenation of 13+ characters as a rope that
 * costs more than its text (docs/design/v8-heap.md#flat-strings-not-ropes).
 */
export function flatString(...parts: string[]): string {
  return parts.join('');
}
