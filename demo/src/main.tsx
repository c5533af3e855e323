/** The demo's entry point: mount the app and resume the session. */
import { render } from 'preact';
import { App } from './components/App';
import { boot } from './store';
import './styles.css';

render(<App />, document.getElementById('app')!);
void boot();
