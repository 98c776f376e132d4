/**
 * The HTTP handler settings of a client whose call must end within `timeoutMs`. The Node handler of the AWS SDK
 * only logs a warning when `requestTimeout` passes unless `throwOnRequestTimeout` is set
 * (@smithy/types HttpHandlerInitialization: "If exceeded, a warning will be emitted unless
 * throwOnRequestTimeout=true"); every timeout Cutover relies on (a lease renewal, a callback's answer) needs the
 * error.
 */
export function boundedRequests(timeoutMs: number) {
  return { requestTimeout: timeoutMs, connectionTimeout: timeoutMs, throwOnRequestTimeout: true };
}
