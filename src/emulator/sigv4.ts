/** The parts of a SigV4 credential scope the emulator routes by. Signatures themselves are not verified. */
export type CredentialScope = { accessKeyId: string; region: string; service: string };

const SCOPE = /Credential=([^/,\s]+)\/\d{8}\/([^/]+)\/([^/]+)\/aws4_request/;

/** Reads the scope from an `Authorization` header, or from a presigned URL's `X-Amz-Credential`. */
export function credentialScope(authorization: string | undefined, query: URLSearchParams): CredentialScope | undefined {
  const fromHeader = authorization ? SCOPE.exec(authorization) : null;
  const presigned = query.get('X-Amz-Credential');
  const m = fromHeader ?? (presigned ? SCOPE.exec(`Credential=${presigned}`) : null);
  return m ? { accessKeyId: m[1]!, region: m[2]!, service: m[3]! } : undefined;
}

const QUERY_VERSIONS: Record<string, string> = { '2016-11-15': 'ec2', '2010-03-31': 'sns', '2011-06-15': 'sts' };

/**
 * For unsigned requests (curl, quick experiments): the service is guessed from the query API version or
 * the EKS path, in us-east-1, as the default account's `local-user`.
 */
export function guessScope(path: string, params: URLSearchParams): CredentialScope | undefined {
  const byVersion = QUERY_VERSIONS[params.get('Version') ?? ''];
  if (byVersion) return { accessKeyId: '', region: 'us-east-1', service: byVersion };
  if (/^\/(clusters|tags)(\/|\?|$)/.test(path)) return { accessKeyId: '', region: 'us-east-1', service: 'eks' };
  return undefined;
}
