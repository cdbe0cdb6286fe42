export interface ProgressBarProps {
  /** 0-100, or null while nothing was reported. */
  value: number | null;
  label: string;
  /** Spoken instead of the bare percentage, e.g. "40% — preparing". */
  valueText?: string;
}

export function ProgressBar({ value, label, valueText }: ProgressBarProps) {
  const clamped = value === null ? null : Math.max(0, Math.min(100, value));
  return (
    <div
      className="progress"
      role="progressbar"
      aria-label={label}
      aria-valuemin={0}
      aria-valuemax={100}
      aria-valuenow={clamped === null ? undefined : Math.round(clamped)}
      aria-valuetext={valueText}
    >
      <div className="progress-fill" style={{ width: `${clamped ?? 0}%` }} />
      <span className="progress-text">{clamped === null ? "—" : `${Math.round(clamped)}%`}</span>
    </div>
  );
}
