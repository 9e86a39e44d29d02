// Silver table for Zeek http.log: one row per HTTP request/response pair.
import type { TableDefinition } from '../tableDefinition.ts';
import { CONN_ID, trailerColumns, TS, UID, zeekColumns, type ZeekField } from './zeekColumns.ts';
import { connectionExpectations } from './zeekExpectations.ts';

export const HTTP_FIELDS: readonly ZeekField[] = [
  TS,
  UID,
  ...CONN_ID,
  ['trans_depth', 'count', 'Position of the request in the pipelined connection (1 = first)'],
  ['method', 'string', 'Request method (GET, POST, …)'],
  ['host', 'string', 'Host header value'],
  ['uri', 'string', 'Request URI'],
  ['referrer', 'string', 'Referer header value'],
  ['version', 'string', 'HTTP version of the request'],
  ['user_agent', 'string', 'User-Agent header value'],
  ['origin', 'string', 'Origin header value'],
  ['request_body_len', 'count', 'Uncompressed request body length in bytes'],
  ['response_body_len', 'count', 'Uncompressed response body length in bytes'],
  ['status_code', 'count', 'Response status code'],
  ['status_msg', 'string', 'Response status message'],
  ['info_code', 'count', 'Last 1xx informational status code'],
  ['info_msg', 'string', 'Last 1xx informational status message'],
  ['tags', 'set[enum]', 'Indicators about the request (e.g. HTTP::URI_SQLI)'],
  ['username', 'string', 'User name of basic authentication'],
  ['password', 'string', 'Password of basic authentication (only with HTTP::default_capture_password)'],
  ['proxied', 'set[string]', 'Headers that indicate a proxied request'],
  ['orig_fuids', 'vector[string]', 'File ids of the files the client sent'],
  ['orig_filenames', 'vector[string]', 'File names the client sent'],
  ['orig_mime_types', 'vector[string]', 'MIME types of the files the client sent'],
  ['resp_fuids', 'vector[string]', 'File ids of the files the server sent'],
  ['resp_filenames', 'vector[string]', 'File names the server sent'],
  ['resp_mime_types', 'vector[string]', 'MIME types of the files the server sent'],
  ['client_header_names', 'vector[string]', 'Names of the request headers (policy http/header-names)'],
  ['server_header_names', 'vector[string]', 'Names of the response headers (policy http/header-names)'],
  ['cookie_vars', 'vector[string]', 'Cookie variable names (policy http/var-extraction-cookies)'],
  ['uri_vars', 'vector[string]', 'URI query variable names (policy http/var-extraction-uri)'],
];

export const zeekHttp: TableDefinition = {
  name: 'zeek_http',
  layer: 'silver',
  doc: 'Zeek http.log: one row per HTTP request and its response.',
  partitionBy: ['eventDate'],
  eventTime: 'ts',
  columns: [...zeekColumns(HTTP_FIELDS), ...trailerColumns()],
  enrich: { geoip: ['id_resp_h'], domain: ['host'], attribution: ['id_orig_h'] },
  expectations: [
    ...connectionExpectations(),
    {
      name: 'status_code_valid',
      action: 'warn',
      description: 'status_code is null or within 100..599',
      check: (row) => row.status_code === null || row.status_code === undefined || (typeof row.status_code === 'number' && row.status_code >= 100 && row.status_code <= 599),
    },
  ],
};
