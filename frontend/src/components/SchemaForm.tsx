import { useId } from "react";

import type { FieldSpec, FormValues } from "../lib/form-fields";

export interface SchemaFieldsProps {
  fields: FieldSpec[];
  values: FormValues;
  onChange: (name: string, value: string | boolean) => void;
  /** Messages from the server, by field name, shown under the field. */
  errors?: Record<string, string>;
  disabled?: boolean;
}

/** The label already says the name (so "Delay" needs no "delay" beside it). */
function sameWords(label: string, name: string): boolean {
  return label.trim().toLowerCase() === name.toLowerCase();
}

/** Inputs for a list of field specs; the surrounding <form> and buttons are the caller's. */
export function SchemaFields({ fields, values, onChange, errors = {}, disabled = false }: SchemaFieldsProps) {
  const prefix = useId();
  if (fields.length === 0) return <p className="muted">No parameters.</p>;
  return (
    <div className="fields">
      {fields.map((field) => {
        const id = `${prefix}-${field.name}`;
        const error = errors[field.name];
        const hint = [field.description, field.kind === "list" ? "Comma-separated." : null].filter(Boolean).join(" ");
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
            {field.label}
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
                {field.kind === "enum" ? (
                  <select {...common} value={text} onChange={(e) => onChange(field.name, e.target.value)}>
                    {(!field.required || !field.options?.length) && <option value="">—</option>}
                    {field.options?.map((option) => (
                      <option key={String(option)} value={String(option)}>
                        {String(option)}
                      </option>
                    ))}
                  </select>
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
