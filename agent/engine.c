// SPDX-License-Identifier: GPL-2.0
#include <stddef.h>

#include "engine.h"

#ifdef DK_HAVE_OPENSSL
extern const struct dk_engine_ops dk_engine_openssl;
#endif

const struct dk_engine_ops *dk_engine_find(enum dk_engine_kind kind)
{
	switch (kind) {
	case DK_ENGINE_GNUTLS:
		return &dk_engine_gnutls;
	case DK_ENGINE_OPENSSL:
#ifdef DK_HAVE_OPENSSL
		return &dk_engine_openssl;
#else
		break;	/* session_cfg.c refuses it in such a build */
#endif
	}
	return NULL;
}
