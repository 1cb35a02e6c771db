/**
 * OpenTelemetry export failures in the operator's log. The SDK hands them to its global error
 * handler, which by default writes nothing unless OTEL_LOG_LEVEL is set, and then a stack trace per
 * failed batch: a collector down or refusing went unseen. One line the first time, then at most one
 * a minute saying how many more failed; the audit log keeps every decision either way.
 */
export function exportErrorLogger(write: (line: string) => void, now: () => number = Date.now, everyMs = 60_000): (err: unknown) => void {
  let lastLogged: number | undefined;
  let since = 0;
  return (err: unknown) => {
    const at = now();
    if (lastLogged !== undefined && at - lastLogged < everyMs) {
      since++;
      return;
    }
    const more = since > 0 ? `; ${since} more errors since the last line` : '';
    write(`telemetry: the OpenTelemetry SDK reported an error (${describe(err)}), most often an export to the collector that failed, whose spans, log records or metrics are dropped${more}; the audit log has every decision`);
    lastLogged = at;
    since = 0;
  };
}

/** The error's own message, one line and bounded; never a stack trace. */
function describe(err: unknown): string {
  const message = err instanceof Error ? err.message : typeof err === 'string' ? err : String(err);
  const line = message.replace(/\s+/g, ' ').trim() || 'no message';
  return line.length > 200 ? `${line.slice(0, 200)}...` : line;
}
