import { hue, initials } from '../format';

/** Avatar is a coloured circle with initials; decorative (the name is always written next to it). */
export function Avatar(props: { name: string; group?: boolean; size?: 'small' }) {
  return (
    <span class={`avatar ${props.group ? 'group' : ''} ${props.size ?? ''}`} style={{ '--hue': String(hue(props.name)) }} aria-hidden="true">
      {props.group ? '#' : initials(props.name)}
    </span>
  );
}
