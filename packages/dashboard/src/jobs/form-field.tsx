import type { JSX } from 'preact';
import { Isolated } from '../ui/isolated.js';
import type { PayloadFormField } from '@jobstream/contracts';

interface FormFieldProps {
  field: PayloadFormField;
  value: string | boolean;
  /** The schema's message for the field, from the page's own check or the api's 400. */
  error: string | undefined;
  onValue: (name: string, value: string | boolean) => void;
}

/** One payload field as its schema describes it: input, number, text area, select or checkbox, with its hint and error. */
export function FormField({ field, value, error, onValue }: FormFieldProps) {
  const id = `payload-${field.name}`;
  const hint = field.hint ?? (field.kind === 'json' ? 'JSON' : undefined);
  const common = {
    id,
    name: field.name,
    required: field.required,
    'aria-invalid': error !== undefined,
    'aria-describedby': [hint !== undefined ? `${id}-hint` : '', error !== undefined ? `${id}-error` : ''].filter(Boolean).join(' ') || undefined,
  };
  const text = typeof value === 'string' ? value : '';
  const input = (): JSX.Element => {
    switch (field.kind) {
      case 'checkbox':
        return <input {...common} type="checkbox" checked={value === true} onChange={(e) => onValue(field.name, (e.target as HTMLInputElement).checked)} />;
      case 'select':
        return (
          <select {...common} class="field-select" value={text} onChange={(e) => onValue(field.name, (e.target as HTMLSelectElement).value)}>
            {!field.required && <option value="">(none)</option>}
            {field.options.map((option, index) => (
              <option key={index} value={String(index)}>
                {String(option)}
              </option>
            ))}
          </select>
        );
      case 'number':
        return (
          <input
            {...common}
            type="number"
            inputMode={field.integer ? 'numeric' : 'decimal'}
            min={field.min}
            max={field.max}
            step={field.integer ? 1 : 'any'}
            value={text}
            onInput={(e) => onValue(field.name, (e.target as HTMLInputElement).value)}
          />
        );
      case 'textarea':
      case 'json':
        return <textarea {...common} rows={5} maxLength={field.maxLength} value={text} onInput={(e) => onValue(field.name, (e.target as HTMLTextAreaElement).value)} />;
      default:
        return <input {...common} type="text" maxLength={field.maxLength} value={text} onInput={(e) => onValue(field.name, (e.target as HTMLInputElement).value)} />;
    }
  };
  return (
    <div class={field.kind === 'checkbox' ? 'field checkbox' : 'field'}>
      <label for={id}>{field.label}</label>
      {input()}
      {hint !== undefined && (
        <p id={`${id}-hint`} class="hint">
          {hint}
        </p>
      )}
      {error !== undefined && (
        <p id={`${id}-error`} class="field-error">
          <Isolated text={error} />
        </p>
      )}
    </div>
  );
}
