/** UI-only state: which dialog is open. */
import { signal } from '@preact/signals';

export type DialogState =
  | { kind: 'newChat' }
  | { kind: 'newGroup' }
  | { kind: 'group'; groupId: string }
  | { kind: 'readers'; groupId: string; mid: string; text: string; from: string }
  | { kind: 'settings' }
  | null;

export const dialog = signal<DialogState>(null);
