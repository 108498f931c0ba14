#include "flows.h"

/* Empty until a provider layer registers its flows (see flows.h). */
struct flow_ops flow_ops;
