// Silver table for Zeek ssl.log: one row per TLS/SSL session (version, cipher, SNI, certificate validation).
import type { TableDefinition } from '../tableDefinition.ts';
import { CONN_ID, trailerColumns, TS, UID, zeekColumns, type ZeekField } from './zeekColumns.ts';
import { connectionExpectations } from './zeekExpectations.ts';

export const SSL_FIELDS: readonly ZeekField[] = [
  TS,
  UID,
  ...CONN_ID,
  ['version', 'string', 'Negotiated TLS/SSL version (TLSv12, TLSv13, …)'],
  ['cipher', 'string', 'Negotiated cipher suite'],
  ['curve', 'string', 'Elliptic curve of the key exchange'],
  ['server_name', 'string', 'Server name indication (SNI) the client sent'],
  ['resumed', 'bool', 'Whether the session was resumed'],
  ['last_alert', 'string', 'Last alert seen in the session'],
  ['next_protocol', 'string', 'Protocol negotiated by ALPN/NPN (h2, http/1.1, …)'],
  ['established', 'bool', 'Whether the handshake completed'],
  ['ssl_history', 'string', 'Handshake message history (Zeek 5+)'],
  ['cert_chain_fps', 'vector[string]', 'SHA-256 fingerprints of the server certificate chain (Zeek 5+)'],
  ['client_cert_chain_fps', 'vector[string]', 'SHA-256 fingerprints of the client certificate chain (Zeek 5+)'],
  ['cert_chain_fuids', 'vector[string]', 'File ids of the server certificate chain (before Zeek 5)'],
  ['client_cert_chain_fuids', 'vector[string]', 'File ids of the client certificate chain (before Zeek 5)'],
  ['subject', 'string', 'Subject of the server certificate (before Zeek 5, or policy ssl/log-certs)'],
  ['issuer', 'string', 'Issuer of the server certificate'],
  ['client_subject', 'string', 'Subject of the client certificate'],
  ['client_issuer', 'string', 'Issuer of the client certificate'],
  ['sni_matches_cert', 'bool', 'Whether the SNI matches the server certificate'],
  ['validation_status', 'string', 'Result of certificate validation (ok, self signed certificate, …)'],
  ['ocsp_status', 'string', 'Result of OCSP validation (policy ssl/validate-ocsp)'],
  ['valid_ct_logs', 'count', 'Number of valid SCTs from distinct logs (policy ssl/validate-sct)'],
  ['valid_ct_operators', 'count', 'Number of distinct log operators with valid SCTs (policy ssl/validate-sct)'],
  ['ja3', 'string', 'JA3 client fingerprint (ja3 package)'],
  ['ja3s', 'string', 'JA3S server fingerprint (ja3 package)'],
];

export const zeekSsl: TableDefinition = {
  name: 'zeek_ssl',
  layer: 'silver',
  doc: 'Zeek ssl.log: one row per TLS/SSL session with version, cipher, SNI and certificate validation result.',
  partitionBy: ['eventDate'],
  eventTime: 'ts',
  columns: [...zeekColumns(SSL_FIELDS), ...trailerColumns()],
  enrich: { geoip: ['id_resp_h'], domain: ['server_name'], attribution: ['id_orig_h'] },
  expectations: connectionExpectations(),
};
