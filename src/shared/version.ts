/** The server's version, as /health and generated images report it. */
export const version = '0.1.0';
