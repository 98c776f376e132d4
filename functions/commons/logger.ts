import { Logger } from '@aws-lambda-powertools/logger';

export const logger = new Logger({ serviceName: 'cutover' });

export const logTo =
  (l: Logger) =>
  (message: string, fields: Record<string, unknown>): void =>
    l.info(message, fields);
