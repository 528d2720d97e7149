/**
 * A Redis URL as messages, logs and summaries may show it: the password (and a user name that
 * could be a token) replaced by `***`. Anything that does not parse is shown as `<unparseable>`
 * rather than as given, since it may still hold a secret.
 */
export function shownRedisUrl(value: string): string {
  if (!URL.canParse(value)) return "<unparseable URL>";
  const url = new URL(value);
  if (url.password) url.password = "***";
  if (url.username && url.password) url.username = "***";
  return url.toString();
}
