/** uniqueId returns a new local message id. */
export declare function uniqueId(): string;
/** The device id is kept under this localStorage key, so a browser stays one device. */
export declare const deviceIdKey = "seen.deviceId";
/**
 * deviceId returns this browser's device id: the one stored in localStorage, or a new one that is
 * then stored. Without localStorage (Node, some private modes) it is a random id kept in memory.
 */
export declare function deviceId(): string;
