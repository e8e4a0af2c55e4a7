/**
 * Fixtures for the ArchUnit rules: small fake "modules", each under its own root, that break one
 * module boundary on purpose ({@code apileak}, {@code archcore}, {@code cycle}, {@code jna}) or keep
 * them all ({@code clean}). Never used at run time.
 */
package org.kvmgdb.archfixture;
