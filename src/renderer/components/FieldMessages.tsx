/** A field's error messages under it, for every form (Data's import, Settings, Backtests). */
export function FieldMessages({ messages, testId, path }: { messages: readonly string[] | undefined; testId?: string; path?: string }) {
  if (!messages || messages.length === 0) return null;
  return (
    <div className="field-error" role="alert" data-testid={testId} data-path={path}>
      {messages.map((m) => (
        <div key={m}>{m}</div>
      ))}
    </div>
  );
}
