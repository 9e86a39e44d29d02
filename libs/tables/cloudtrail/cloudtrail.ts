// Silver table for AWS CloudTrail events (management, data, service, console sign-in and Insights events): one row
// per element of a `{"Records":[...]}` log file. userIdentity, its sessionContext and tlsDetails are flattened into
// columns; the large, service-specific parts stay loosely typed (JSON text, or a string map for additionalEventData).
import type { ColumnDef, ColumnType, Expectation, Row, TableDefinition } from '../tableDefinition.ts';

function col(name: string, type: ColumnType, doc: string, from?: string): ColumnDef {
  return from === undefined ? { name, type, doc } : { name, type, doc, from };
}

const present = (v: Row[string] | undefined): boolean => typeof v === 'string' && v.trim() !== '';

/** Insights events describe unusual API activity and carry eventSource/eventName inside insightDetails instead. */
const INSIGHT_EVENT_TYPE = 'AwsCloudTrailInsight';

export const CLOUDTRAIL_EVENT_TYPES = [
  'AwsApiCall',
  'AwsServiceEvent',
  'AwsConsoleAction',
  'AwsConsoleSignIn',
  'AwsVpceEvent',
  INSIGHT_EVENT_TYPE,
] as const;

const EVENT_TYPES: ReadonlySet<string> = new Set(CLOUDTRAIL_EVENT_TYPES);

export const CLOUDTRAIL_EXPECTATIONS: Expectation[] = [
  {
    name: 'event_source_present',
    action: 'quarantine',
    description: 'eventSource is a non-empty string (Insights events, which carry it in insightDetails, excepted)',
    check: (row) => present(row.eventSource) || row.eventType === INSIGHT_EVENT_TYPE,
  },
  {
    name: 'event_name_present',
    action: 'quarantine',
    description: 'eventName is a non-empty string (Insights events excepted)',
    check: (row) => present(row.eventName) || row.eventType === INSIGHT_EVENT_TYPE,
  },
  {
    name: 'event_id_present',
    action: 'warn',
    description: 'eventID is a non-empty string (CloudTrail sets it on every event; rows without one cannot be de-duplicated)',
    check: (row) => present(row.eventID),
  },
  {
    name: 'event_type_known',
    action: 'warn',
    description: `eventType is one of ${CLOUDTRAIL_EVENT_TYPES.join(', ')}`,
    check: (row) => typeof row.eventType === 'string' && EVENT_TYPES.has(row.eventType),
  },
];

const UI = 'userIdentity';
const SC = `${UI}.sessionContext`;

export const cloudtrail: TableDefinition = {
  name: 'cloudtrail',
  layer: 'silver',
  doc:
    'AWS CloudTrail events, one row per record of a log file. Top-level fields the table does not declare are kept ' +
    'in _rescued_data, so new CloudTrail fields are never lost.',
  partitionBy: ['eventDate'],
  eventTime: 'eventTime',
  columns: [
    { name: 'eventTime', type: 'timestamp', nullable: false, doc: 'When the request was completed (UTC); gives eventDate.' },
    col('eventVersion', 'string', 'Version of the log event format (e.g. 1.08).'),
    col('eventSource', 'string', 'Service the request was made to (e.g. s3.amazonaws.com).'),
    col('eventName', 'string', 'The requested action (API name, ConsoleLogin, …).'),
    col('awsRegion', 'string', 'Region the request was made to.'),
    col('sourceIPAddress', 'string', 'IP address the request came from, or the calling service name (e.g. ec2.amazonaws.com).'),
    col('userAgent', 'string', 'Agent through which the request was made.'),
    col('errorCode', 'string', 'AWS service error, when the request failed.'),
    col('errorMessage', 'string', 'Description of the error, when the request failed.'),
    col('requestID', 'string', 'Id the service generated for the request.'),
    col('eventID', 'string', 'CloudTrail-generated GUID of the event (the de-duplication key).'),
    col('eventType', 'string', 'AwsApiCall, AwsServiceEvent, AwsConsoleAction, AwsConsoleSignIn, AwsVpceEvent or AwsCloudTrailInsight.'),
    col('eventCategory', 'string', 'Management, Data, NetworkActivity or Insight.'),
    col('apiVersion', 'string', 'API version of the request (some services).'),
    col('managementEvent', 'boolean', 'Whether the event is a management event.'),
    col('readOnly', 'boolean', 'Whether the operation is read-only.'),
    col('recipientAccountId', 'string', 'Account that received the event.'),
    col('sharedEventID', 'string', 'GUID shared by the copies of a cross-account event.'),
    col('vpcEndpointId', 'string', 'VPC endpoint the request went through.'),
    col('vpcEndpointAccountId', 'string', 'Account owning the VPC endpoint.'),
    col('sessionCredentialFromConsole', 'boolean', 'Whether the request used console session credentials.'),
    // userIdentity, flattened
    col('userIdentityType', 'string', 'Identity type: Root, IAMUser, AssumedRole, FederatedUser, AWSService, AWSAccount, IdentityCenterUser, Unknown…', `${UI}.type`),
    col('userIdentityPrincipalId', 'string', 'Unique id of the calling entity.', `${UI}.principalId`),
    col('userIdentityArn', 'string', 'ARN of the calling principal.', `${UI}.arn`),
    col('userIdentityAccountId', 'string', 'Account owning the calling entity.', `${UI}.accountId`),
    col('userIdentityAccessKeyId', 'string', 'Access key used to sign the request.', `${UI}.accessKeyId`),
    col('userIdentityUserName', 'string', 'Friendly name of the calling identity.', `${UI}.userName`),
    col('userIdentityInvokedBy', 'string', 'AWS service that made the request on the principal’s behalf.', `${UI}.invokedBy`),
    col('userIdentityIdentityProvider', 'string', 'Identity provider of SAML / web-identity federated users.', `${UI}.identityProvider`),
    col('userIdentityCredentialId', 'string', 'Id of the bearer-token credential (IAM Identity Center and others).', `${UI}.credentialId`),
    col('userIdentityOnBehalfOf', 'json', 'IAM Identity Center user the request was made for (userId, identityStoreArn), JSON text.', `${UI}.onBehalfOf`),
    col('userIdentityInScopeOf', 'json', 'Scope a service principal acted in (sourceArn, sourceAccount, …), JSON text.', `${UI}.inScopeOf`),
    col('sessionMfaAuthenticated', 'boolean', 'Whether the session was authenticated with MFA.', `${SC}.attributes.mfaAuthenticated`),
    col('sessionCreationDate', 'timestamp', 'When the temporary credentials were issued.', `${SC}.attributes.creationDate`),
    col('sessionIssuerType', 'string', 'Source of the temporary credentials: Root, IAMUser or Role.', `${SC}.sessionIssuer.type`),
    col('sessionIssuerPrincipalId', 'string', 'Principal id of the session issuer.', `${SC}.sessionIssuer.principalId`),
    col('sessionIssuerArn', 'string', 'ARN of the session issuer (e.g. the assumed role).', `${SC}.sessionIssuer.arn`),
    col('sessionIssuerAccountId', 'string', 'Account owning the session issuer.', `${SC}.sessionIssuer.accountId`),
    col('sessionIssuerUserName', 'string', 'Friendly name of the session issuer (role name).', `${SC}.sessionIssuer.userName`),
    col('sessionSourceIdentity', 'string', 'Source identity set when the role was assumed.', `${SC}.sourceIdentity`),
    col('sessionEc2RoleDelivery', 'string', 'Instance metadata service version that delivered EC2 role credentials.', `${SC}.ec2RoleDelivery`),
    col('sessionAssumedRoot', 'boolean', 'Whether the session came from AssumeRoot (privileged root task).', `${SC}.assumedRoot`),
    col('sessionWebIdFederationData', 'json', 'Web identity federation data (federatedProvider, attributes), JSON text.', `${SC}.webIdFederationData`),
    // tlsDetails, flattened
    col('tlsVersion', 'string', 'TLS version of the request.', 'tlsDetails.tlsVersion'),
    col('tlsCipherSuite', 'string', 'Cipher suite of the request.', 'tlsDetails.cipherSuite'),
    col('tlsClientProvidedHostHeader', 'string', 'Client-provided host name of the service endpoint.', 'tlsDetails.clientProvidedHostHeader'),
    // Loosely typed payloads
    col('requestParameters', 'json', 'Request parameters (service-specific, deeply nested), JSON text.'),
    col('responseElements', 'json', 'Response elements of write actions (service-specific), JSON text.'),
    col('additionalEventData', 'map', 'Extra data about the event (string map; nested values as JSON text).'),
    col('resources', 'json', 'Resources accessed (array of {ARN, accountId, type}), JSON text.'),
    col('serviceEventDetails', 'json', 'Details of AwsServiceEvent events, JSON text.'),
    col('insightDetails', 'json', 'Insights events: the unusual activity (state, eventSource, eventName, statistics), JSON text.'),
    col('addendum', 'json', 'Why a delayed or updated event was delivered (reason, updatedFields, originalRequestID…), JSON text.'),
    col('edgeDeviceDetails', 'json', 'Snowball Edge device the request targeted, JSON text.'),
    col(
      '_rescued_data',
      'json',
      'Fields the table does not declare, and values whose type did not fit their column, as a JSON object keyed by ' +
        'path (`newField`, `userIdentity.newField`); null when none.',
    ),
  ],
  enrich: { geoip: ['sourceIPAddress'] },
  expectations: CLOUDTRAIL_EXPECTATIONS,
};
