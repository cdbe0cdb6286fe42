import { useId } from "react";

import type { AxisOption } from "../lib/axes";
import { FileField } from "./FileField";
import type { FieldSpec, FormValues } from "../lib/form-fields";
import { unitLabel, withUnits } from "../lib/units";

export interface SchemaFieldsProps {
  fields: FieldSpec[];
  values: FormValues;
  onChange: (name: string, value: string | boolean) => void;
  /** Messages from the server, by field name, shown under the field. */
  errors?: Record<string, string>;
  disabled?: boolean;
  /** The controller's axes: fields marked as axis ids become a select of these. Until they
   *  are known (or when the hardware cannot be read) such fields are plain text inputs. */
  axes?: AxisOption[];
}

/** "x — X (lateral), µm". */
function axisText(axis: AxisOption): string {
  const name = axis.name && axis.name !== axis.id ? ` — ${axis.name}` : "";
  return `${axis.id}${name}, ${unitLabel(axis.unit)}`;
}

function splitList(text: string): string[] {
  return text
    .split(",")
    .map((item) => item.trim())
    .filter((item) => item !== "");
}

interface AxisSelectProps {
  field: FieldSpec;
  text: string;
  axes: AxisOption[];
  common: Record<string, unknown>;
  onChange: (value: string) => void;
}

/** One axis (a select), or several (a multiple select, sent in the controller's order).
 *  An id the controller does not list stays selectable, so a default is never hidden. */
function AxisSelect({ field, text, axes, common, onChange }: AxisSelectProps) {
  const multiple = field.kind === "list";
  const chosen = multiple ? splitList(text) : text ? [text] : [];
  const known = new Set(axes.map((axis) => axis.id));
  const unknown = chosen.filter((id) => !known.has(id));
  const options = [
    ...axes.map((axis) => ({ id: axis.id, text: axisText(axis) })),
    ...unknown.map((id) => ({ id, text: `${id} (not on this controller)` })),
  ];
  if (multiple) {
    return (
      <select
        {...common}
        multiple
        size={Math.min(options.length, 6)}
        value={chosen}
        onChange={(e) => onChange(Array.from(e.target.selectedOptions, (o) => o.value).join(", "))}
      >
        {options.map((option) => (
          <option key={option.id} value={option.id}>
            {option.text}
          </option>
        ))}
      </select>
    );
  }
  return (
    <select {...common} value={text} onChange={(e) => onChange(e.target.value)}>
      {/* Empty: the server's default, or none; not offered when a default is filled in. */}
      {((!field.required && !field.hasDefault) || !text) && <option value="">—</option>}
      {options.map((option) => (
        <option key={option.id} value={option.id}>
          {option.text}
        </option>
      ))}
    </select>
  );
}

/** The label already says the name (so "Delay" needs no "delay" beside it). */
function sameWords(label: string, name: string): boolean {
  return label.trim().toLowerCase() === name.toLowerCase();
}

/** Inputs for a list of field specs; the surrounding <form> and buttons are the caller's. */
export function SchemaFields({ fields, values, onChange, errors = {}, disabled = false, axes }: SchemaFieldsProps) {
  const prefix = useId();
  if (fields.length === 0) return <p className="muted">No parameters.</p>;
  return (
    <div className="fields">
      {fields.map((field) => {
        const id = `${prefix}-${field.name}`;
        const error = errors[field.name];
        const axisSelect = field.widget === "axis" && axes !== undefined && axes.length > 0;
        const listHint = field.kind !== "list" ? null : axisSelect ? "Select one or more." : "Comma-separated.";
        const fileHint = field.kind === "file" && field.accept?.length ? `Takes ${field.accept.join(", ")} files.` : null;
        const hint = withUnits([field.description, listHint, fileHint].filter(Boolean).join(" "));
        const describedBy = [hint ? `${id}-hint` : null, error ? `${id}-error` : null]
          .filter(Boolean)
          .join(" ");
        const common = {
          id,
          name: field.name,
          disabled,
          "aria-invalid": error ? true : undefined,
          "aria-describedby": describedBy || undefined,
        } as const;
        const value = values[field.name];
        const text = typeof value === "string" ? value : "";
        const label = (
          <>
            {withUnits(field.label)}
            {!sameWords(field.label, field.name) && (
              <>
                {" "}
                <code className="field-name">{field.name}</code>
              </>
            )}
            {field.required && !field.hasDefault && field.kind !== "boolean" && (
              <span className="required" aria-hidden="true">
                *
              </span>
            )}
          </>
        );
        return (
          <div className={`field field-${field.kind}${error ? " field-invalid" : ""}`} key={field.name}>
            {field.kind === "boolean" ? (
              <label className="checkbox" htmlFor={id}>
                <input {...common} type="checkbox" checked={value === true} onChange={(e) => onChange(field.name, e.target.checked)} />
                {label}
              </label>
            ) : (
              <>
                <label htmlFor={id}>{label}</label>
                {axisSelect ? (
                  <AxisSelect field={field} text={text} axes={axes} common={common} onChange={(v) => onChange(field.name, v)} />
                ) : field.kind === "enum" ? (
                  <select {...common} value={text} onChange={(e) => onChange(field.name, e.target.value)}>
                    {(!field.required || !field.options?.length) && <option value="">—</option>}
                    {field.options?.map((option) => (
                      <option key={String(option)} value={String(option)}>
                        {String(option)}
                      </option>
                    ))}
                  </select>
                ) : field.kind === "file" ? (
                  <FileField common={common} accept={field.accept} onChange={(v) => onChange(field.name, v)} />
                ) : field.kind === "json" ? (
                  <textarea {...common} rows={3} value={text} onChange={(e) => onChange(field.name, e.target.value)} />
                ) : (
                  <input
                    {...common}
                    type={field.kind === "number" || field.kind === "integer" ? "number" : field.kind === "email" ? "email" : "text"}
                    step={field.kind === "integer" ? 1 : field.kind === "number" ? "any" : undefined}
                    min={field.minimum}
                    max={field.maximum}
                    inputMode={field.kind === "integer" ? "numeric" : field.kind === "number" ? "decimal" : undefined}
                    value={text}
                    onChange={(e) => onChange(field.name, e.target.value)}
                  />
                )}
              </>
            )}
            {hint && (
              <p className="hint" id={`${id}-hint`}>
                {hint}
              </p>
            )}
            {error && (
              <p className="field-error" id={`${id}-error`}>
                {error}
              </p>
            )}
          </div>
        );
      })}
    </div>
  );
}
