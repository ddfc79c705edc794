import { fromNodeProviderChain } from "@aws-sdk/credential-providers";
import { AwsClient } from "aws4fetch";

export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string | undefined;
}
export type AwsCredentialsProvider = () => Promise<AwsCredentials>;

export interface AuthOptions {
  /** A Cognito token: sent as `Authorization: Bearer …` instead of signing. */
  token?: string | undefined;
  /** AWS credentials for SigV4 (default: the usual credential chain). */
  credentials?: AwsCredentialsProvider;
  /** The region to sign for (default: the execute-api host's, else AWS_REGION / AWS_DEFAULT_REGION). */
  region?: string;
}

type Send = (input: Request) => Promise<Response>;

/** True for http(s)://127.x.x.x, localhost or [::1]: the local server, which takes no authorization. */
export const isLoopbackUrl = (url: string): boolean => {
  const host = new URL(url).hostname;
  return host === "localhost" || host === "[::1]" || /^127\.\d+\.\d+\.\d+$/.test(host);
};

/** The region of an execute-api host (`<id>.execute-api.<region>.amazonaws.com`), else the environment's. */
export function regionOf(baseUrl: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const match = /\.execute-api\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?$/.exec(new URL(baseUrl).hostname);
  return match?.[1] ?? (env.AWS_REGION || env.AWS_DEFAULT_REGION || undefined);
}

/**
 * `send` with the authorization the base URL calls for: a bearer token when one is given, nothing
 * on loopback, else SigV4 for execute-api in the region of `regionOf`.
 */
export function authorized(baseUrl: string, options: AuthOptions, send: Send): Send {
  if (options.token) {
    const bearer = `Bearer ${options.token}`;
    return (request) => {
      const headers = new Headers(request.headers);
      headers.set("authorization", bearer);
      return send(new Request(request, { headers }));
    };
  }
  if (isLoopbackUrl(baseUrl)) return send;
  const region = options.region ?? regionOf(baseUrl);
  if (!region) {
    throw new Error(`no region to sign requests to ${baseUrl} for: set AWS_REGION (or pass region, or a token)`);
  }
  const credentials = options.credentials ?? fromNodeProviderChain();
  return async (request) => {
    const { accessKeyId, secretAccessKey, sessionToken } = await credentials();
    const signer = new AwsClient({ accessKeyId, secretAccessKey, sessionToken, service: "execute-api", region });
    return send(await signer.sign(request));
  };
}
