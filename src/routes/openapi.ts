import { FIELD_TYPES, PAPER_TYPES } from '../domain/procedureDefinition';
import { WORKFLOW_ACTIONS } from '../workflows/engine';

/** The OpenAPI description of API v1, served at /api/v1/openapi.json. Names follow CONTRACT.md. */
export function openApiDocument(baseUrl: string) {
  const error = {
    type: 'object',
    properties: {
      error: {
        type: 'object',
        required: ['code', 'message'],
        properties: {
          code: { type: 'string', example: 'VALIDATION_FAILED' },
          message: { type: 'string' },
          fields: { type: 'object', additionalProperties: { type: 'string' } },
          reference: { type: 'string', description: 'request id, for support' },
        },
      },
    },
  };
  const errorResponse = (description: string) => ({
    description,
    content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
  });
  return {
    openapi: '3.1.0',
    info: {
      title: 'Cổng Dịch vụ công — API v1',
      version: '1.0.0',
      description:
        'File and follow administrative procedures. Authenticate with a personal access token: ' +
        '`Authorization: Bearer <token>` (POST /tokens, or the account page). Messages are in Vietnamese, ' +
        'or English with `Accept-Language: en`. Times are ISO 8601 in UTC.',
    },
    servers: [{ url: `${baseUrl}/api/v1` }],
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
      schemas: {
        Error: error,
        Procedure: {
          type: 'object',
          required: ['code', 'name', 'agency', 'onlineLevel', 'timeLimit', 'fee', 'fields', 'papers'],
          properties: {
            code: { type: 'string', example: 'BQL-LD-02' },
            version: { type: 'integer' },
            name: { type: 'string' },
            agency: { type: 'object', properties: { code: { type: 'string' }, name: { type: 'string' } } },
            sector: { type: 'string' },
            onlineLevel: { type: 'string', enum: ['FULL', 'PARTIAL'] },
            applicantKinds: { type: 'array', items: { type: 'string', enum: ['CITIZEN', 'BUSINESS'] } },
            timeLimit: {
              type: 'object',
              properties: {
                amount: { type: 'integer' },
                unit: { type: 'string', enum: ['WORKING_DAYS', 'WORKING_HOURS', 'CALENDAR_DAYS'] },
              },
            },
            fee: {
              type: 'object',
              properties: {
                amount: { type: 'integer' },
                currency: { const: 'VND' },
                text: { type: 'string' },
              },
            },
            fields: {
              type: 'array',
              items: {
                type: 'object',
                required: ['name', 'type', 'label', 'required'],
                properties: {
                  name: { type: 'string' },
                  type: { type: 'string', enum: FIELD_TYPES },
                  label: { type: 'string' },
                  required: { type: 'boolean' },
                  pattern: { type: 'string' },
                  maxLength: { type: 'integer' },
                  min: { type: 'number' },
                  max: { type: 'number' },
                  options: {
                    type: 'array',
                    items: {
                      type: 'object',
                      properties: { value: { type: 'string' }, label: { type: 'string' } },
                    },
                  },
                },
              },
            },
            papers: {
              type: 'array',
              items: {
                type: 'object',
                properties: {
                  code: { type: 'string' },
                  name: { type: 'string' },
                  required: { type: 'boolean' },
                  copies: { type: 'integer' },
                  maxFiles: { type: 'integer' },
                  types: { type: 'array', items: { type: 'string', enum: PAPER_TYPES } },
                },
              },
            },
          },
        },
        Dossier: {
          type: 'object',
          properties: {
            code: { type: 'string', example: '000.00.12.H10-261123-0001' },
            status: { type: 'string' },
            procedure: { type: 'object' },
            agency: { type: 'object' },
            channel: { type: 'string', enum: ['ONLINE', 'COUNTER'] },
            submittedAt: { type: 'string', format: 'date-time' },
            dueAt: { type: 'string', format: 'date-time' },
            papers: { type: 'array', items: { type: 'object' } },
            history: {
              type: 'array',
              items: {
                type: 'object',
                properties: {
                  at: { type: 'string', format: 'date-time' },
                  action: { type: 'string' },
                  from: { type: ['string', 'null'] },
                  to: { type: 'string' },
                  actorRole: { type: 'string' },
                  note: { type: ['string', 'null'] },
                },
              },
            },
          },
        },
      },
    },
    paths: {
      '/tokens': {
        post: {
          summary: 'Get a personal access token for an account',
          requestBody: {
            required: true,
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  required: ['email', 'password'],
                  properties: { email: { type: 'string' }, password: { type: 'string' } },
                },
              },
            },
          },
          responses: {
            '201': {
              description: 'A new token; shown once',
              content: {
                'application/json': { schema: { type: 'object', properties: { token: { type: 'string' } } } },
              },
            },
            '401': errorResponse('Wrong email or password (the same answer for both)'),
            '429': errorResponse('Too many failed attempts: locked for a while (Retry-After)'),
          },
        },
      },
      '/procedures': {
        get: {
          summary: 'The procedure catalogue',
          responses: {
            '200': {
              description: 'Current versions of all active procedures',
              content: {
                'application/json': {
                  schema: { type: 'array', items: { $ref: '#/components/schemas/Procedure' } },
                },
              },
            },
          },
        },
      },
      '/dossiers': {
        post: {
          summary: 'File a dossier',
          security: [{ bearer: [] }],
          parameters: [
            {
              name: 'Idempotency-Key',
              in: 'header',
              required: false,
              schema: { type: 'string', maxLength: 64 },
              description: 'A retried request with the same key answers with the dossier the first one made',
            },
          ],
          requestBody: {
            required: true,
            content: {
              'multipart/form-data': {
                schema: {
                  type: 'object',
                  required: ['procedure'],
                  properties: { procedure: { type: 'string', description: 'procedure code' } },
                  additionalProperties: {
                    description: 'one part per form field, by its name; one file part per paper, by its code',
                  },
                },
              },
            },
          },
          responses: {
            '201': {
              description:
                'Filed (or, with a known Idempotency-Key, filed before: header Idempotent-Replayed)',
              content: {
                'application/json': {
                  schema: {
                    type: 'object',
                    required: ['code', 'secret', 'status', 'dueAt'],
                    properties: {
                      code: { type: 'string' },
                      secret: { type: 'string' },
                      status: { type: 'string' },
                      dueAt: { type: 'string', format: 'date-time' },
                    },
                  },
                },
              },
            },
            '401': errorResponse('No or bad token'),
            '403': errorResponse('This account may not file this procedure'),
            '404': errorResponse('Unknown procedure'),
            '413': errorResponse('A file, or the dossier, is too large, or too many files'),
            '422': errorResponse('Fields or papers are not valid: error.fields names each'),
          },
        },
      },
      '/dossiers/{code}/actions/{action}': {
        post: {
          summary: 'Take a workflow action on a dossier (an officer of its agency, or its applicant)',
          security: [{ bearer: [] }],
          parameters: [
            { name: 'code', in: 'path', required: true, schema: { type: 'string' } },
            {
              name: 'action',
              in: 'path',
              required: true,
              schema: { type: 'string', enum: WORKFLOW_ACTIONS },
            },
          ],
          requestBody: {
            required: false,
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  properties: {
                    reason: { type: 'string', maxLength: 2000 },
                    papers: {
                      type: 'array',
                      items: { type: 'string' },
                      description: 'paper codes to supplement',
                    },
                    assignee: { type: 'integer', description: 'user id of a specialist of the agency' },
                    newDueDate: {
                      type: 'string',
                      format: 'date',
                      description: 'extend: the new appointment day',
                    },
                    version: {
                      type: 'integer',
                      description: 'the dossier version the client saw; 409 if it changed',
                    },
                    pin: {
                      type: 'string',
                      description:
                        'approve: the approver’s signing PIN; release: the PIN of the agency’s seal key. A wrong PIN answers 403 WRONG_PIN and is counted; after 5 the key locks for 15 minutes (423 KEY_LOCKED)',
                    },
                  },
                },
              },
            },
          },
          responses: {
            '200': {
              description: 'The new status',
              content: {
                'application/json': {
                  schema: {
                    type: 'object',
                    properties: {
                      code: { type: 'string' },
                      status: { type: 'string' },
                      version: { type: 'integer' },
                      dueAt: { type: ['string', 'null'], format: 'date-time' },
                      paused: { type: 'boolean' },
                    },
                  },
                },
              },
            },
            '401': errorResponse('No or bad token'),
            '403': errorResponse('Not this user’s to take'),
            '404': errorResponse('No such dossier or action'),
            '409': errorResponse(
              'The dossier changed meanwhile, or the action is not possible in its status',
            ),
            '422': errorResponse('What the action needs is missing or not valid'),
          },
        },
      },
      '/dossiers/{code}': {
        get: {
          summary: 'A dossier: status, due date and history (the applicant and the agency’s officers only)',
          security: [{ bearer: [] }],
          parameters: [{ name: 'code', in: 'path', required: true, schema: { type: 'string' } }],
          responses: {
            '200': {
              description: 'The dossier',
              content: { 'application/json': { schema: { $ref: '#/components/schemas/Dossier' } } },
            },
            '401': errorResponse('No or bad token'),
            '404': errorResponse('No such dossier for this account'),
          },
        },
      },
      '/dossiers/{code}/result': {
        get: {
          summary:
            'The issued result: the signed and sealed PDF (or the scan of a paper result), once released',
          security: [{ bearer: [] }],
          parameters: [{ name: 'code', in: 'path', required: true, schema: { type: 'string' } }],
          responses: {
            '200': {
              description: 'The PDF; header X-Content-SHA256 carries its SHA-256',
              content: { 'application/pdf': { schema: { type: 'string', format: 'binary' } } },
            },
            '401': errorResponse('No or bad token'),
            '404': errorResponse('No such dossier for this account, or no result issued yet'),
          },
        },
      },
      '/verify': {
        post: {
          summary: 'Verification report of a PDF’s signatures (public, no token)',
          security: [],
          requestBody: {
            required: true,
            content: {
              'multipart/form-data': {
                schema: {
                  type: 'object',
                  required: ['file'],
                  properties: {
                    file: { type: 'string', format: 'binary', description: 'the PDF, at most 20 MB' },
                  },
                },
              },
            },
          },
          responses: {
            '200': {
              description:
                'Signatures in file order: valid (signed bytes intact, structure sound), trusted (chain to a trusted root, certificate valid and not revoked at signing time), coversWholeDocument, modifiedAfter (changed by anything but later signatures), with the checks, problems and changes after each; issuedByPortal and the result’s status when the file is one the portal issued',
              content: { 'application/json': { schema: { type: 'object' } } },
            },
            '413': errorResponse('The file is larger than 20 MB'),
            '422': errorResponse('No file was sent'),
          },
        },
      },
      '/stats': {
        get: {
          summary:
            'The figures of the statistics page for an agency with its sub-agencies and a period (public, no token)',
          security: [],
          parameters: [
            {
              name: 'agency',
              in: 'query',
              schema: { type: 'string' },
              description: 'agency code; the province when absent',
            },
            {
              name: 'from',
              in: 'query',
              schema: { type: 'string', format: 'date' },
              description: 'first day (Vietnam time); 1 January of the year when absent',
            },
            {
              name: 'to',
              in: 'query',
              schema: { type: 'string', format: 'date' },
              description:
                'last day, at most five years after from; today or the end of that year when absent',
            },
            {
              name: 'month',
              in: 'query',
              schema: { type: 'string', pattern: '^\\d{4}-\\d{2}$' },
              description: 'a whole month YYYY-MM instead of from and to',
            },
          ],
          responses: {
            '200': {
              description:
                'agency, period (from, to, asOf), total and byAgency (each agency on its own) with received, resolved (early, onTime, late), onTimeRate, averageProcessingDays, inProgress, supplementRequests, refusals, withdrawals, results with signingRate, certificates, ratings; ratingsByProcedure; monthly (the twelve months ending with the period)',
              content: { 'application/json': { schema: { type: 'object' } } },
            },
            '422': errorResponse(
              'An unknown agency, a date that does not exist, or a period out of order or too long',
            ),
          },
        },
      },
    },
  };
}
