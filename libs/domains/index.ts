export { DomainLookup, domainInfoOf, type DomainInfo, type DomainOptions } from './registeredDomain.ts';
