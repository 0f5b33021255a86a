/** Errors users may see: a stable code, an HTTP status and a message key (translated in the view). */
export class AppError extends Error {
  constructor(
    readonly code: string,
    readonly status: number,
    readonly messageKey: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(code);
    this.name = new.target.name;
  }
}

export class NotFoundError extends AppError {
  constructor(messageKey = 'error.notFound') {
    super('NOT_FOUND', 404, messageKey);
  }
}

export class ForbiddenError extends AppError {
  constructor(messageKey = 'error.forbidden') {
    super('FORBIDDEN', 403, messageKey);
  }
}

export class ConflictError extends AppError {
  constructor(messageKey = 'error.conflict', details?: Record<string, unknown>) {
    super('CONFLICT', 409, messageKey, details);
  }
}

export class ServiceUnavailableError extends AppError {
  constructor() {
    super('SERVICE_UNAVAILABLE', 503, 'error.unavailable');
  }
}

/** Input that failed validation: field name -> message key, plus what the person typed. */
export class ValidationError extends AppError {
  constructor(
    readonly fieldErrors: Record<string, string>,
    readonly messageParams: Record<string, Record<string, string | number>> = {},
  ) {
    super('VALIDATION_FAILED', 422, 'error.validation');
  }
}

export class LoginThrottledError extends AppError {
  constructor(readonly retryAfterMinutes: number) {
    super('LOGIN_THROTTLED', 429, 'login.locked');
  }
}
