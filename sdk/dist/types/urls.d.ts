/**
 * Endpoints: the WebSocket and REST URLs of a connection, from its options and the page it runs on.
 */
/** The parts of `location` that resolveUrls reads. */
export interface PageLocation {
    protocol?: string;
    origin?: string;
    host?: string;
}
/** resolveUrls works out the WebSocket and REST endpoints from the options and the page. */
export declare function resolveUrls(opts: {
    url?: string;
    apiUrl?: string;
}, loc?: PageLocation): {
    wsUrl?: string;
    apiUrl?: string;
};
