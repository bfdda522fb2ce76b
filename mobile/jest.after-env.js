// A cold transform cache on a busy 2-core box makes the first renders slow; waitFor's 1 s default is too tight (a passing wait returns at once).
require('@testing-library/react-native').configure({ asyncUtilTimeout: 15000 });
