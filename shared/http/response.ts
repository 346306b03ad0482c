import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';

const headers = { 'content-type': 'application/json; charset=utf-8' };

export const json = (statusCode: number, body: unknown): APIGatewayProxyStructuredResultV2 => ({
  statusCode,
  headers,
  body: JSON.stringify(body),
});

export const errorResponse = (
  statusCode: number,
  code: string,
  message: string,
  details?: Record<string, string>,
) => json(statusCode, { error: { code, message, ...details } });
