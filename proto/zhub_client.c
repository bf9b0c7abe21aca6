//  placeholder until the broker work lands
#include "zhub_client.h"
