// Silver tables for the Defender XDR device inventory snapshots: AdvancedHunting-DeviceInfo (OS, agent, join state,
// public IP), -DeviceNetworkInfo (adapters, addresses, gateways) and -DeviceFileCertificateInfo (file signing
// certificates). They carry no ActionType; rows are keyed by DeviceId + ReportId like the event tables.
import type { ColumnDef, TableDefinition } from '../tableDefinition.ts';
import { envelopeColumns, prop } from './defenderColumns.ts';
import { deviceIdPresent, reportIdNonNegative, valueKnown } from './defenderExpectations.ts';

function deviceKeyColumns(): ColumnDef[] {
  return [
    prop('Timestamp', 'timestamp', 'When the snapshot was recorded (UTC).', false),
    prop('DeviceId', 'string', 'Defender identifier of the device.', false),
    prop('DeviceName', 'string', 'Fully qualified name of the device.'),
  ];
}

function inventoryTrailer(): ColumnDef[] {
  return [
    prop('ReportId', 'long', 'Per-device event counter; with DeviceId it identifies the record.', false),
    prop('MachineGroup', 'string', 'Machine group of the device.'),
    ...envelopeColumns(),
  ];
}

export const ONBOARDING_STATUSES = ['Onboarded', 'Can be onboarded', 'Unsupported', 'Insufficient info'] as const;

export const deviceInfo: TableDefinition = {
  name: 'defender_device_info',
  layer: 'silver',
  doc: 'Defender for Endpoint device inventory snapshots (AdvancedHunting-DeviceInfo) streamed through Event Hubs.',
  partitionBy: ['eventDate'],
  eventTime: 'Timestamp',
  columns: [
    ...deviceKeyColumns(),
    prop('ClientVersion', 'string', 'Version of the endpoint agent or sensor.'),
    prop('PublicIP', 'string', 'Public IP the device reached the service from (the device, a NAT or a proxy).'),
    prop('OSArchitecture', 'string', 'Architecture of the operating system.'),
    prop('OSPlatform', 'string', 'Operating system platform (Windows10, Windows11, Linux, macOS, …).'),
    prop('OSBuild', 'long', 'Build number of the operating system.'),
    prop('IsAzureADJoined', 'boolean', 'Whether the device is joined to Entra ID.'),
    prop('JoinType', 'string', 'Entra ID join type of the device.'),
    prop('AadDeviceId', 'string', 'Entra ID device id.'),
    prop('LoggedOnUsers', 'json', 'Users logged on at the time, as a JSON array.'),
    prop('RegistryDeviceTag', 'string', 'Device tag set through the registry.'),
    prop('OSVersion', 'string', 'Version of the operating system.'),
    prop('OnboardingStatus', 'string', 'Onboarding state to Defender for Endpoint (Onboarded, Can be onboarded, Unsupported, Insufficient info).'),
    prop('AdditionalFields', 'json', 'Extra device details as JSON text.'),
    prop('DeviceCategory', 'string', 'Broad class: Endpoint, Network device, IoT, Unknown.'),
    prop('DeviceType', 'string', 'Type of device (Workstation, Server, Mobile, Printer, …).'),
    prop('DeviceSubtype', 'string', 'Finer device type where discovery knows it.'),
    prop('Model', 'string', 'Model of the device where discovery knows it.'),
    prop('Vendor', 'string', 'Vendor of the device where discovery knows it.'),
    prop('OSDistribution', 'string', 'OS distribution (Ubuntu, RedHat, …).'),
    prop('OSVersionInfo', 'string', 'Additional OS version information (popular name, code name).'),
    prop('MergedDeviceIds', 'string', 'Previous device ids of the same device.'),
    prop('MergedToDeviceId', 'string', 'Most recent device id of the device.'),
    prop('IsInternetFacing', 'boolean', 'Whether the device is internet-facing.'),
    prop('SensorHealthState', 'string', 'Health of the EDR sensor.'),
    prop('IsExcluded', 'boolean', 'Whether the device is excluded from vulnerability management.'),
    prop('ExclusionReason', 'string', 'Why the device is excluded.'),
    prop('ExposureLevel', 'string', 'Exposure level of the device.'),
    prop('AssetValue', 'string', 'Value of the device as set by the organisation.'),
    prop('DeviceManualTags', 'json', 'Tags set manually in the portal, as a JSON array.'),
    prop('DeviceDynamicTags', 'json', 'Tags set by dynamic rules, as a JSON array.'),
    prop('ConnectivityType', 'string', 'Connectivity type of the device to the cloud.'),
    prop('HostDeviceId', 'string', 'Device id of the host of a virtual device.'),
    prop('CloudPlatforms', 'json', 'Cloud platforms the device belongs to, as a JSON array.'),
    prop('AzureVmId', 'string', 'Azure VM id.'),
    prop('AzureResourceId', 'string', 'Azure resource id.'),
    prop('AzureVmSubscriptionId', 'string', 'Azure subscription of the VM.'),
    prop('GcpFullResourceName', 'string', 'Google Cloud resource name.'),
    prop('AwsResourceName', 'string', 'AWS resource name.'),
    prop('IsTransient', 'boolean', 'Whether the device is short-lived (seen briefly on the network).'),
    ...inventoryTrailer(),
  ],
  enrich: { geoip: ['PublicIP'] },
  expectations: [deviceIdPresent, reportIdNonNegative, valueKnown('onboarding_status_known', 'OnboardingStatus', ONBOARDING_STATUSES)],
};

export const deviceNetworkInfo: TableDefinition = {
  name: 'defender_device_network_info',
  layer: 'silver',
  doc: 'Defender for Endpoint network adapter snapshots (AdvancedHunting-DeviceNetworkInfo) streamed through Event Hubs.',
  partitionBy: ['eventDate'],
  eventTime: 'Timestamp',
  columns: [
    ...deviceKeyColumns(),
    prop('NetworkAdapterName', 'string', 'Name of the network adapter.'),
    prop('MacAddress', 'string', 'MAC address of the adapter.'),
    prop('NetworkAdapterType', 'string', 'Adapter type (Ethernet, Wireless80211, Tunnel, …).'),
    prop('NetworkAdapterStatus', 'string', 'Operational status of the adapter (Up, Down, Unknown, …).'),
    prop('TunnelType', 'string', 'Tunnelling protocol when the adapter is a tunnel (Teredo, 6to4, …; None otherwise).'),
    prop('ConnectedNetworks', 'json', 'Networks the adapter is connected to (name, category, description, internet flag), JSON array.'),
    prop('DnsAddresses', 'json', 'DNS server addresses, JSON array.'),
    prop('IPv4Dhcp', 'string', 'IPv4 address of the DHCP server.'),
    prop('IPv6Dhcp', 'string', 'IPv6 address of the DHCP server.'),
    prop('DefaultGateways', 'json', 'Default gateway addresses, JSON array.'),
    prop('IPAddresses', 'json', 'Addresses of the adapter with subnet prefix and address type, JSON array.'),
    prop('NetworkAdapterVendor', 'string', 'Vendor of the adapter.'),
    ...inventoryTrailer(),
  ],
  expectations: [deviceIdPresent, reportIdNonNegative],
};

export const deviceFileCertificateInfo: TableDefinition = {
  name: 'defender_device_file_certificate_info',
  layer: 'silver',
  doc: 'Certificates of signed files seen on devices (AdvancedHunting-DeviceFileCertificateInfo) streamed through Event Hubs.',
  partitionBy: ['eventDate'],
  eventTime: 'Timestamp',
  columns: [
    ...deviceKeyColumns(),
    prop('SHA1', 'string', 'SHA-1 of the signed file.'),
    prop('IsSigned', 'boolean', 'Whether the file is signed.'),
    prop('SignatureType', 'string', 'Where the signature was read: Embedded or Catalog.'),
    prop('Signer', 'string', 'Signer of the file.'),
    prop('SignerHash', 'string', 'Hash identifying the signer.'),
    prop('Issuer', 'string', 'Issuing certificate authority.'),
    prop('IssuerHash', 'string', 'Hash identifying the issuing CA.'),
    prop('CertificateSerialNumber', 'string', 'Serial number of the certificate (unique per CA).'),
    prop('CrlDistributionPointUrls', 'json', 'CRL distribution point URLs, JSON array.'),
    prop('CertificateCreationTime', 'timestamp', 'When the certificate was created.'),
    prop('CertificateExpirationTime', 'timestamp', 'When the certificate expires.'),
    prop('CertificateCountersignatureTime', 'timestamp', 'When the certificate was countersigned.'),
    prop('IsTrusted', 'boolean', 'Whether WinVerifyTrust considers the file trusted.'),
    prop('IsRootSignerMicrosoft', 'boolean', 'Whether the root certificate signer is Microsoft.'),
    ...inventoryTrailer(),
  ],
  expectations: [
    deviceIdPresent,
    reportIdNonNegative,
    {
      name: 'sha1_present',
      action: 'warn',
      description: 'SHA1 of the signed file is a 40-digit hex string (it joins to the event tables)',
      check: (row) => typeof row.SHA1 === 'string' && /^[0-9a-fA-F]{40}$/.test(row.SHA1),
    },
  ],
};
