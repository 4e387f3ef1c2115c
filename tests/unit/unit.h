/* unit.h — common includes for cmocka unit tests. */
#ifndef FC_UNIT_H
#define FC_UNIT_H
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#endif
