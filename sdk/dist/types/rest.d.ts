/** Where and how to call: the REST base and the fetch to use (default the global fetch). */
export interface RestConfig {
    apiUrl?: string;
    fetch?: typeof fetch;
}
/** The reply of POST /api/v1/token. */
export interface TokenReply {
    access_token: string;
    /** The token's lifetime in seconds. */
    expires_in?: number;
    user?: string;
}
/** rest calls method path with an optional JSON body and bearer token, and returns the JSON reply (undefined when empty). */
export declare function rest<T>(cfg: RestConfig, method: string, path: string, body?: unknown, token?: string): Promise<T | undefined>;
/** register creates an account and returns its username as the server spelled it, if it said. */
export declare function register(cfg: RestConfig, username: string, password: string): Promise<string | undefined>;
/** login exchanges a username and password for an access token. */
export declare function login(cfg: RestConfig, username: string, password: string): Promise<TokenReply>;
/** revoke revokes an access token. */
export declare function revoke(cfg: RestConfig, token: string): Promise<void>;
