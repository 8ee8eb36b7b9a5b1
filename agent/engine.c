// SPDX-License-Identifier: GPL-2.0
#include <stddef.h>

#include "engine.h"

const struct dk_engine_ops *dk_engine_find(enum dk_engine_kind kind)
{
	switch (kind) {
	case DK_ENGINE_GNUTLS:
		return &dk_engine_gnutls;
	}
	return NULL;
}
