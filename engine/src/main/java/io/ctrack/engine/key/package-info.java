/**
 * Connection keys: the {@link io.ctrack.engine.key.CtRequest} record a packet thread derives from a packet
 * (the key, its symmetric hash and the L4 fields the trackers read), the extractor that builds it with
 * Open vSwitch's validation ({@code conn_key_extract}), and the symmetric hash.
 */
package io.ctrack.engine.key;
