/* Preloaded into the daemons in the sanitizer build only (.ci/sanitize): dlclose does nothing, so that a leak
 * report at exit can still name the plugin or module an allocation came from (and the suppressions can tell
 * PipeWire's own from Soundstage's) instead of "<unknown module>". */
int dlclose(void *handle);
int dlclose(void *handle)
{
	(void)handle;
	return 0;
}
