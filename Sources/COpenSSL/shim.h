#ifndef COPENSSL_SHIM_H
#define COPENSSL_SHIM_H
/* Only OpenSSLKit includes this: the exchange's request signing (HMAC-SHA256). */
#include <openssl/evp.h>
#include <openssl/hmac.h>
#endif
