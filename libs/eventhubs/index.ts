// Public surface of @sluice/eventhubs: connection strings, SAS tokens, the HTTPS send API, the Kafka-endpoint producer,
// and a local HTTPS stand-in that verifies SAS signatures (tests).
export { parseConnectionString, type EventHubsConnection } from './connectionString.ts';
export { createSasToken, verifySasToken, type SasKey, type SasVerdict } from './sasToken.ts';
export { EventHubsHttpsSender, MAX_BATCH_BYTES, RetryableSendError, type HttpsSenderOptions, type HubEvent, type SendResult } from './httpsSender.ts';
export { EventHubsKafkaProducer, type KafkaProducerOptions, type KeyedMessage } from './kafkaProducer.ts';
export { startLocalEventHub, type LocalEventHub, type ReceivedEvent } from './localEventHub.ts';
