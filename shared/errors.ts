/**
 * An expected failure with the contract's error code. Domain and adapters throw it;
 * the HTTP layer turns it into `{"error": {code, message}}` with its status.
 */
export class AppError extends Error {
  constructor(
    readonly status: 400 | 401 | 403 | 404 | 405 | 409 | 413 | 429,
    readonly code: string,
    message: string,
    /** Fields beside code and message in the error object (e.g. the volunteer a phone is registered to). */
    readonly details?: Record<string, string>,
  ) {
    super(message);
    this.name = 'AppError';
  }
}

export const badRequest = (field: string, problem: string, code = 'invalid_field') =>
  new AppError(400, code, `${field}: ${problem}`);
export const notFound = (what: string) => new AppError(404, 'not_found', `${what} not found`);
export const conflict = (code: string, message: string, details?: Record<string, string>) =>
  new AppError(409, code, message, details);
