import { createTestCertificate } from '@repopulse/test-support';

/** A self-signed certificate for 127.0.0.1 made with `openssl`, or why it could not be made. */
export function selfSignedCertificate(): { key: string; cert: string } | { missing: string } {
  try {
    return createTestCertificate();
  } catch (error) {
    return { missing: `openssl could not make a test certificate (${(error as Error).message})` };
  }
}
