/** Bell is the reminder icon: an inline SVG (an emoji needs a font the system may not have); decorative. */
export function Bell() {
  return (
    <svg class="bell" viewBox="0 0 24 24" width="1em" height="1em" aria-hidden="true" focusable="false">
      <path fill="currentColor" d="M12 22a2.5 2.5 0 0 0 2.45-2h-4.9A2.5 2.5 0 0 0 12 22Zm7-5-1.6-1.6V11a5.4 5.4 0 0 0-4.4-5.3V4.5a1 1 0 0 0-2 0v1.2A5.4 5.4 0 0 0 6.6 11v4.4L5 17v1h14v-1Z" />
    </svg>
  );
}
