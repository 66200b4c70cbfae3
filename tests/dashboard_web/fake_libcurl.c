/* A stand-in libcurl.so.4 with only curl_global_init in it, put first on
 * LD_LIBRARY_PATH by test_dashboard_libcurl_broken: the dashboard's dlopen of
 * libcurl then succeeds and its dlsym of the other functions fails. */
int curl_global_init(long flags);
int curl_global_init(long flags)
{
    (void)flags;
    return 0;
}
