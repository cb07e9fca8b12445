// Types of runtime-flags.js (plain JavaScript: bin/netlet.js loads it on any Node).
export declare const NODE_FLAGS: string;
export declare const MALLOC_ENV: Record<string, string>;
